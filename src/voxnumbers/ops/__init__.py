"""Operations endpoints: liveness, readiness, API description."""
