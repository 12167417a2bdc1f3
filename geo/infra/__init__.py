"""Infrastructure every domain uses: the database engine and sessions, COPY helpers, the one error
family, typed requests, Beijing time, the append-only audit and exports."""
