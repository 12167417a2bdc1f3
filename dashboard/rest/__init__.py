"""The REST layer's machinery: route declaration and parsing (router), shared types, the one
error handler and the OpenAPI document."""
