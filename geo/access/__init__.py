"""Who is asking and what they may do: accounts, roles and scopes, and the one policy layer."""
