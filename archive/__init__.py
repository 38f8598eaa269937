"""The archive: SQLAlchemy models, engine set-up, and functions that read or write a Session."""
