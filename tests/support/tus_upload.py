"""Uploads one file with tuspy and prints the upload's URL.

Usage: python3 tus_upload.py ENDPOINT FILE CHUNK_SIZE NAME
"""
import sys

from tusclient import client

endpoint, path, chunk_size, name = sys.argv[1:5]
uploader = client.TusClient(endpoint).uploader(
    file_path=path,
    chunk_size=int(chunk_size),
    metadata={"filename": name},
    retries=5,
    retry_delay=1,
)
uploader.upload()
print(uploader.url)
