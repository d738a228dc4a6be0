"""The house layer: what every blueprint shares, one helper per default.

- `settings`: cdk.json context -> validated stage and blueprint settings.
- `defaults`: buckets, log groups, queues, file systems, load balancers, keys.
- `names`: physical names that must be unique per account (carry the stack name).
- `images`: whether an image reference is pinned (a tag other than latest, or a digest).
- `network`: VPCs without NAT unless asked, flow logs on.
- `lambda_function`: the house Lambda (arm64, newest Python, own role and log group, X-Ray).
- `bundling`: Lambda dependencies installed for the Lambda platform without Docker.
- `edge`: what every CloudFront distribution shares (WAF, certificate, us-east-1 companion).
- `compliance`: cdk-nag packs, the one way to acknowledge a finding, finding names.
- `account_baseline`: the stack a fresh account lacks (API Gateway's CloudWatch Logs role).
"""
