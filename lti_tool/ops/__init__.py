"""Running the tool in production: proxy headers, logs, metrics, caches, backups."""
