"""Data generation for development, tests and benchmarks (never deployed, never imported by functions/):
the synthetic city of Madrid (seed.city), its global position and interactions (seed.position), and the
training of the C360 match model with Splink (seed.train_c360)."""
