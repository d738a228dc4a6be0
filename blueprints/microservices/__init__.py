"""The microservices blueprint: a small shop (orders, inventory, notifications), one stack per
service, found through SSM parameters."""
