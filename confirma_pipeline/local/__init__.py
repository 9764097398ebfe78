"""The local environment: the demo, the UI, the embedded warehouse's and the sandbox's lifecycle for a
laptop with no credentials (`environment.LocalEnvironment`), the Dagster instance it uses, and the
sample data. Nothing in the sync itself imports from here."""
