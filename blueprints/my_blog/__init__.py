"""MyBlog blueprint (docs/my-blog.md): `stack.py` composes the static site, `blog_api.py`,
the stream consumer and the photo thumbnails."""
