"""Virtual assistant (BOT): answers from the knowledge base, simple procedures, and a person whenever wanted."""
