"""Containers on ECS: cluster and capacity (`cluster`), images (`registry`), a web service
behind an ALB (`web_service`), a queue worker (`queue_worker`), event and scheduled tasks
(`tasks`)."""
