"""Document model, loaders and writers, validation, and the registry of named datasets."""

from rexel_bench.data.io import LoadResult, load, load_documents, write
from rexel_bench.data.model import Document, Entity, FineType, Mention, Relation

__all__ = ["Document", "Entity", "FineType", "LoadResult", "Mention", "Relation", "load", "load_documents", "write"]
