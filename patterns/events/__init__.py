"""Event-driven Lambda processing: a table stream consumer (`stream_consumer`), S3 uploads
to thumbnails (`photo_thumbnails`)."""
