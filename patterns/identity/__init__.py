"""Who the users are and what each may touch directly: Cognito user and identity pools
(`user_identity`)."""
