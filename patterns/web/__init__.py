"""Static web sites: a private S3 bucket served only through CloudFront (`static_site`)."""
