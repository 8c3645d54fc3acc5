"""The import pipeline's stages after parsing: classify, images, store, upstream review and runs."""
