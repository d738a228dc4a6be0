"""The Lambda function of the createEmployee operation (openapi.json), answered by routes.py.

Its role may do what createEmployee needs and nothing else (the blueprint's directory_api.py).
"""

import config
import routes

config.settings()  # at import: a function without its configuration fails its init

handler = routes.api_for("createEmployee").handler
