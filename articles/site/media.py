"""Lead video: decide how a video URL is shown, with no third-party script on the page."""

from urllib.parse import parse_qs, urlsplit

VIDEO_FILE_EXTENSIONS = (".mp4", ".webm", ".ogv", ".m4v", ".mov")
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}
VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}


def video_kind(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        return ""
    host = (parts.hostname or "").lower()
    if host in YOUTUBE_HOSTS and youtube_id(url):
        return "youtube"
    if host in VIMEO_HOSTS and vimeo_id(url):
        return "vimeo"
    if parts.path.lower().endswith(VIDEO_FILE_EXTENSIONS):
        return "file"
    return "link"


def video_mime_type(url: str) -> str:
    path = urlsplit(url).path.lower()
    if path.endswith(".webm"):
        return "video/webm"
    if path.endswith(".ogv"):
        return "video/ogg"
    return "video/mp4"


def youtube_id(url: str) -> str:
    parts = urlsplit(url)
    if (parts.hostname or "").lower() == "youtu.be":
        candidate = parts.path.strip("/")
    elif parts.path.startswith(("/embed/", "/shorts/")):
        candidate = parts.path.split("/")[2]
    else:
        candidate = parse_qs(parts.query).get("v", [""])[0]
    return candidate if candidate.replace("-", "").replace("_", "").isalnum() else ""


def vimeo_id(url: str) -> str:
    segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return segment if segment.isdigit() else ""


def privacy_embed_url(url: str) -> str:
    """The no-cookie player address for a known host, or ''."""
    kind = video_kind(url)
    if kind == "youtube":
        return f"https://www.youtube-nocookie.com/embed/{youtube_id(url)}"
    if kind == "vimeo":
        return f"https://player.vimeo.com/video/{vimeo_id(url)}?dnt=1"
    return ""
