"""The small package every EventOps process shares: configuration, database setup, errors,
service-to-service auth, health, logging and translations. No business logic lives here."""
