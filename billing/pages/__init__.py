"""Dashboard pages of the billing app: API keys, credits, projects and members."""
