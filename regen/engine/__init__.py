"""The RAIL engine: pure Python, no Django. Scoring, thresholds, the loop, prompts."""
