"""Reusable L3 constructs ("patterns"), one architectural idea per module.

Named `patterns`, not `constructs`: aws-cdk-lib imports the `constructs` package, and a
top-level folder of that name in this repo would shadow it.
"""
