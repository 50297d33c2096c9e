"""riffweb settings: every knob comes from the environment, with safe development defaults.

The README's configuration table documents each variable read here.
"""

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from riffweb import logs

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "axes",
    "riffweb.accounts",
    "riffweb.studio",
    "riffweb.upstream",
    "riffweb.teams",
    "riffweb.library",
    "riffweb.takes",
    "riffweb.playlists",
    "riffweb.review",
]

MIDDLEWARE = [
    # First: its one line per request times and ids everything below, static files included.
    "riffweb.logs.request_log",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "riffweb.middleware.permissions_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "riffweb.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "riffweb.studio.context_processors.studio",
                "riffweb.upstream.context_processors.upstream_health",
                "riffweb.teams.context_processors.pending_invitations",
                "riffweb.review.feeds.inbox_context",
            ],
        },
    },
]

WSGI_APPLICATION = "riffweb.wsgi.application"

DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL.startswith(("postgres://", "postgresql://")):
    from urllib.parse import unquote, urlsplit

    _db = urlsplit(DATABASE_URL)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _db.path.lstrip("/"),
            "USER": unquote(_db.username or ""),
            "PASSWORD": unquote(_db.password or ""),
            "HOST": _db.hostname or "",
            "PORT": str(_db.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
elif DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL (leave it unset for SQLite).")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(BASE_DIR / "var" / "riffweb.sqlite3")),
            # A file, not memory, so that a test's worker cluster (another process) sees it.
            "TEST": {"NAME": env("SQLITE_TEST_PATH", str(BASE_DIR / "var" / "test.sqlite3"))},
            # Kept open between requests, as PostgreSQL's: opening one (its pragmas, Django's SQL
            # functions) cost about a quarter of an open page's status poll (benchmarks/web_bench.py).
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # The web process and the worker cluster write to one file: wait for locks
            # instead of failing, and let readers run beside the writer. A page cache of
            # 32 MiB per connection (SQLite's default is 2 MiB): a library search visits every
            # matching song's row, 15,000 for "moon" at 100,000 songs, and with the default
            # most of those pages are read again from the OS each time (the search's page of
            # ids took a median 17 ms, with the larger cache 10; 128 MiB or mmap gained
            # nothing more; benchmarks/library_bench.py's database).
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Log-in throttle (django-axes): after RIFFWEB_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused for RIFFWEB_LOGIN_COOLOFF_MINUTES, on the
# site's log-in page and the admin's alike (both go through authenticate()).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("RIFFWEB_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(env("RIFFWEB_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "riffweb.accounts.throttle.locked_out"
AXES_CLIENT_IP_CALLABLE = "riffweb.accounts.throttle.client_address"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio:project_list"
LOGOUT_REDIRECT_URL = "login"
RIFFWEB_SIGNUP_ENABLED = env_bool("RIFFWEB_SIGNUP_ENABLED")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Filled by `collectstatic` (the Procfile's release step); whitenoise serves it.
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # wavesurfer.js as npm installed it from package-lock.json (`npm ci`, run by bin/_env.sh).
    ("vendor/wavesurfer", BASE_DIR / "node_modules" / "wavesurfer.js" / "dist"),
]


def s3_storage(bucket: str, region: str, endpoint_url: str, access_key: str, secret_key: str,
               link_seconds: int) -> tuple[dict, str]:
    """STORAGES' entry for media in an S3-compatible bucket, and the origin browsers fetch from."""
    import re
    from urllib.parse import urlsplit

    from botocore.config import Config

    # A named endpoint is addressed by path (one origin for the CSP, and what self-hosted
    # servers expect); AWS's own by bucket subdomain, unless the name cannot be a host label
    # (dots, capitals), where boto3 falls back to the path as well.
    label = re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", bucket)
    style = "virtual" if label and not endpoint_url else "path"
    parts = urlsplit(endpoint_url or f"https://s3.{region}.amazonaws.com")
    host = parts.netloc if style == "path" else f"{bucket}.{parts.netloc}"
    options = {
        "bucket_name": bucket,
        "endpoint_url": f"{parts.scheme}://{parts.netloc}",
        "region_name": region,
        "addressing_style": style,
        "signature_version": "s3v4",
        # Empty: boto3 finds credentials its usual way (its environment variables, an instance role).
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        # Private objects: a browser reads one only through a link riffweb signed.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": link_seconds,
        # As on disk: a name already taken gets a suffix (two guests making one preview at once).
        "file_overwrite": False,
        # boto3 waits a minute for a connection by default: a store that is down would hold a
        # web worker (and /healthz) that long.
        # This Config replaces the one django-storages builds, so it carries the signature and
        # addressing style too.
        "client_config": Config(signature_version="s3v4", s3={"addressing_style": style}, connect_timeout=5,
                                read_timeout=30, retries={"max_attempts": 3}),
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, f"{parts.scheme}://{host}"


# Media on S3-compatible object storage when a bucket is named, so that every web and worker
# machine sees the same files; otherwise on this machine's disk under MEDIA_ROOT.
RIFFWEB_S3_BUCKET = env("RIFFWEB_S3_BUCKET")
# Whether browsers can reach the store: then, after riffweb's access check, they are sent
# there with a short-lived signed link; if not, riffweb streams every file through itself.
RIFFWEB_S3_BROWSER_ACCESS = env_bool("RIFFWEB_S3_BROWSER_ACCESS", True)
RIFFWEB_S3_LINK_SECONDS = int(env("RIFFWEB_S3_LINK_SECONDS", "300"))
RIFFWEB_MEDIA_REDIRECT = bool(RIFFWEB_S3_BUCKET) and RIFFWEB_S3_BROWSER_ACCESS
if RIFFWEB_S3_BUCKET:
    MEDIA_STORAGE, RIFFWEB_S3_ORIGIN = s3_storage(
        RIFFWEB_S3_BUCKET,
        region=env("RIFFWEB_S3_REGION", "us-east-1"),
        endpoint_url=env("RIFFWEB_S3_ENDPOINT_URL"),
        access_key=env("RIFFWEB_S3_ACCESS_KEY"),
        secret_key=env("RIFFWEB_S3_SECRET_KEY"),
        link_seconds=RIFFWEB_S3_LINK_SECONDS,
    )
else:
    MEDIA_STORAGE, RIFFWEB_S3_ORIGIN = {"BACKEND": "django.core.files.storage.FileSystemStorage"}, ""
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Media is never served as public static files: every audio response goes through a view
# that checks the user's right to the song.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media-not-public/"

# Invitations go out by e-mail: printed to the console in development, SMTP in production.
EMAIL_BACKEND_PATH = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env("EMAIL_HOST", "localhost"),
        "port": int(env("EMAIL_PORT", "25")),
        "username": env("EMAIL_HOST_USER"),
        "password": env("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS"),
        "timeout": 10,
    }
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "riffweb <riffweb@localhost>")
# Invitations (and so invitation e-mails) one user may send per hour.
RIFFWEB_INVITES_PER_HOUR = int(env("RIFFWEB_INVITES_PER_HOUR", "20"))
# Songs stay this many days in the trash before `manage.py empty_trash` deletes them.
RIFFWEB_TRASH_DAYS = int(env("RIFFWEB_TRASH_DAYS", "30"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
# Both bind more than this site (every subdomain; browsers' built-in lists): only when asked.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
# Nothing inline runs or styles the page unless it carries this response's nonce (the import
# map; wavesurfer's shadow-DOM style); audio, pictures and requests stay on this site.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    # The store's origin only when browsers are sent there to play and download.
    "media-src": [CSP.SELF, "blob:", *([RIFFWEB_S3_ORIGIN] if RIFFWEB_MEDIA_REDIRECT else [])],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Features a music studio never uses, refused to every frame (riffweb/middleware.py).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()"
BEHIND_PROXY = env_bool("BEHIND_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# The upstream: the local engine unless a hosted upstream is configured.
RIFFWEB_UPSTREAM_DIALECT = env("RIFFWEB_UPSTREAM_DIALECT", "riffusion")
if RIFFWEB_UPSTREAM_DIALECT not in {"riffusion", "useapi"}:
    raise ImproperlyConfigured("RIFFWEB_UPSTREAM_DIALECT must be 'riffusion' or 'useapi'.")
RIFFWEB_UPSTREAM_URL = env("RIFFWEB_UPSTREAM_URL", "http://127.0.0.1:8001").rstrip("/")
RIFFWEB_UPSTREAM_TOKEN = env("RIFFWEB_UPSTREAM_TOKEN")
# Dialect B's gateway account to run every job on (empty: the gateway picks one), and how many
# jobs it may run at once (1–10, empty: the gateway's own setting); riffweb.upstream.checks.
RIFFWEB_UPSTREAM_USER_ID = env("RIFFWEB_UPSTREAM_USER_ID")
RIFFWEB_UPSTREAM_MAX_JOBS = env("RIFFWEB_UPSTREAM_MAX_JOBS") or None
# Public base URL of this site, used to build callback and signed upload URLs for the upstream.
RIFFWEB_PUBLIC_URL = env("RIFFWEB_PUBLIC_URL").rstrip("/")

# Tracking (riffweb/upstream/tracker.py). Seconds unless named otherwise.
RIFFWEB_UPSTREAM_FEED_CHUNK = int(env("RIFFWEB_UPSTREAM_FEED_CHUNK", "100"))  # ids per feed call
RIFFWEB_UPSTREAM_DEADLINE = float(env("RIFFWEB_UPSTREAM_DEADLINE", str(20 * 60)))
# Status answers in a row that leave a song out before it is shown as lost (with a retry).
RIFFWEB_LOST_AFTER_POLLS = int(env("RIFFWEB_LOST_AFTER_POLLS", "6"))
# Empty: each dialect's own usual time (riffweb/upstream/dialects.py).
RIFFWEB_UPSTREAM_EXPECTED_SECONDS = float(env("RIFFWEB_UPSTREAM_EXPECTED_SECONDS")) if env("RIFFWEB_UPSTREAM_EXPECTED_SECONDS") else None
RIFFWEB_POLL_FIRST = float(env("RIFFWEB_POLL_FIRST", "3"))
RIFFWEB_POLL_MIN = float(env("RIFFWEB_POLL_MIN", "1"))
RIFFWEB_POLL_MAX = float(env("RIFFWEB_POLL_MAX", "20"))
# With callbacks (dialect B and RIFFWEB_PUBLIC_URL set) polling is only the safety net.
RIFFWEB_CALLBACK_SAFETY_POLL = float(env("RIFFWEB_CALLBACK_SAFETY_POLL", "90"))
RIFFWEB_PUMP_SECONDS = float(env("RIFFWEB_PUMP_SECONDS", "15"))
# Downloads are CPU-bound (decoding) under one GIL: more threads per worker only contend;
# a burst spreads to the other worker (drain_downloads) instead.
RIFFWEB_DOWNLOAD_THREADS = int(env("RIFFWEB_DOWNLOAD_THREADS", "2"))
RIFFWEB_DOWNLOAD_DEADLINE = float(env("RIFFWEB_DOWNLOAD_DEADLINE", "30"))

RIFFWEB_AUDIO_MAX_BYTES = int(env("RIFFWEB_AUDIO_MAX_BYTES", str(80 * 1024 * 1024)))
# "Write lyrics for me": drafts one musician may ask the music service for per hour.
RIFFWEB_LYRICS_HELP_PER_HOUR = int(env("RIFFWEB_LYRICS_HELP_PER_HOUR", "20"))
# Comments (and replies) one member may write per hour: a flood stays small.
RIFFWEB_COMMENTS_PER_HOUR = int(env("RIFFWEB_COMMENTS_PER_HOUR", "60"))
RIFFWEB_UPLOAD_MAX_BYTES = int(env("RIFFWEB_UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))
# Longest audio riffweb decodes (uploads, links, finished songs): a few megabytes of FLAC or
# of a lying header can hold hours, and the byte caps above do not bound what decoding costs.
RIFFWEB_AUDIO_MAX_SECONDS = float(env("RIFFWEB_AUDIO_MAX_SECONDS", "600"))
# A song still being made: the service's preview of it is copied at most this often (seconds).
RIFFWEB_PREVIEW_REFRESH = float(env("RIFFWEB_PREVIEW_REFRESH", "15"))
# Cover art from the service: bytes fetched at most, and pixels decoded at most (an image bomb).
RIFFWEB_COVER_MAX_BYTES = int(env("RIFFWEB_COVER_MAX_BYTES", str(2 * 1024 * 1024)))
RIFFWEB_COVER_MAX_PIXELS = int(env("RIFFWEB_COVER_MAX_PIXELS", str(4096 * 4096)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# First: an upload over RIFFWEB_UPLOAD_MAX_BYTES is refused before it reaches memory or disk.
FILE_UPLOAD_HANDLERS = [
    "riffweb.upload_cap.UploadCapHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# django-q2: the ORM broker by default, Redis when REDIS_URL is set.
Q_CLUSTER = {
    "name": "riffweb",
    "workers": int(env("Q_WORKERS", "2")),
    "recycle": 500,
    # Tasks are short (one upstream call, one download). timeout < retry so that a task
    # is redelivered only when its worker died, not while it is still running.
    "timeout": 60,
    "retry": 90,
    "max_attempts": 3,
    "queue_limit": 20,
    "save_limit": 200,
    "catch_up": False,
    "poll": 0.2,
    "orm": "default",
}
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL

LOG_FORMAT = env("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
LOGGING = logs.config(LOG_FORMAT, env("LOG_LEVEL", "INFO"))
