"""Staff learning of every form (seed 003, 4.1-4.4) beside TeachHub modules (4.5): records,
verification and recognition, the consolidated list, certificates and Open Badges 3.0."""
