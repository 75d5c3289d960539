"""Application services: domain logic used by the API and the background workers."""
