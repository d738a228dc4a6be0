"""The sample app of the fargate-service blueprint: one image, four roles.

    web             HTTP on $PORT behind the ALB: /health, POST /jobs, GET /jobs/<id>, GET /uploads
    worker          long-polls $QUEUE_URL, writes each job's result to the shared file system
    process-upload  one-off task started by EventBridge for $OBJECT_KEY in $UPLOAD_BUCKET
    prune           scheduled task: deletes shared files older than $RETENTION_DAYS

Only the standard library and boto3, so the image stays small and the code stays readable.
"""
