"""The student portfolio (issue 3): sections, entries, evidence, rubric points, verification,
summaries, showcase and analytics."""
