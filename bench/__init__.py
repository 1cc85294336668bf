"""`make bench`: seedbank's seeding path side by side with PostgreSQL's COPY ceiling
and a naive factory-boy + ORM peer (docs/performance.md). Not a test: figures only."""
