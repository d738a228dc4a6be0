"""Caches in front of data stores: a DAX cluster in front of DynamoDB tables (`dax_cache`)."""
