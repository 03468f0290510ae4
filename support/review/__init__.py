"""Agent pages: the queue, the case page, the conversation, decisions, the dashboard."""
