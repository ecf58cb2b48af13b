"""The Elasticsearch and OpenSearch backend."""
