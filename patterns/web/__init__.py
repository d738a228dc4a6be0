"""Web front ends: a private S3 bucket served only through CloudFront (`static_site`), and a REST
API generated from an OpenAPI contract, one function per operation, behind it (`contract_api`)."""
