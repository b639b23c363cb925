"""Knowledge base (KB): articles with versions, two languages side by side, audiences and search (issue 15)."""
