"""Scrapy spiders: discovery and fetching only; extraction happens in the pipelines."""
