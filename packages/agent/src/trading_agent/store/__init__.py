"""agent.db: the agent's append-only event log (`event_store`) and its read side (`read`)."""
