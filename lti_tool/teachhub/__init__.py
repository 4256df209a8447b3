"""TeachHub: staff-development module cards, participant cards, recognition of hours, HR reports."""
