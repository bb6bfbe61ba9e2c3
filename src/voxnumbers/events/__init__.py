"""Events of numbers (an outbox written with each change), webhook endpoints and delivery."""
