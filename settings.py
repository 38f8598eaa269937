"""Scrapy settings of the archiver (declarations only).

Every custom setting is prefixed ARCHIVE_ or CRAWLER_ and commented. Override any of them in
``scrapy crawl ... -s NAME=VALUE`` or with the ``crawler`` command's options.
"""

BOT_NAME = "news-archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Politeness: identify ourselves, obey robots.txt, adapt the pace to the server.
USER_AGENT = "news-archiver/0.1 (+https://example.org/news-archiver; research crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
# Pause before a retry (5xx, 429, timeout, lost connection): the server's Retry-After when it sends
# one, else CRAWLER_RETRY_BACKOFF seconds doubled at each retry; at most CRAWLER_RETRY_MAX_DELAY.
CRAWLER_RETRY_BACKOFF = 1.0
CRAWLER_RETRY_MAX_DELAY = 30.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Pages larger than this are not article pages; cap memory per response.
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0

# Extract (and language-tag), then store. Lower numbers run first.
ITEM_PIPELINES = {
    "pipelines.ExtractPipeline": 300,
    "pipelines.StorePipeline": 800,
    "pipelines.RecordPipeline": 900,
}

# Where articles are archived: any SQLAlchemy URL.
ARCHIVE_URL = "sqlite:///archive.db"
# Keep each archived page's raw HTML (Zstandard-compressed) so `crawler reextract` can redo extraction.
ARCHIVE_KEEP_HTML = True
# A folder (`crawler crawl --warc DIR`): every response is also written there as WARC/1.1 records
# (request + response, a 304 as a revisit), in gzip-per-record files rotated at ARCHIVE_WARC_MAX_SIZE
# bytes; each archived row records its record (articles.warc_file, warc_offset...). Empty: off.
ARCHIVE_WARC_DIR = ""
ARCHIVE_WARC_MAX_SIZE = 1024 * 1024 * 1024

# Incremental crawls (middlewares.IncrementalMiddleware): archived pages fetched less than
# CRAWLER_REVISIT_AFTER ago (seconds, or "30m", "6h", "1d") are not requested again, older ones
# are requested conditionally (If-None-Match / If-Modified-Since), and sitemap lastmod / feed
# dates skip unchanged pages. CRAWLER_INCREMENTAL = False fetches everything again.
CRAWLER_INCREMENTAL = True
CRAWLER_REVISIT_AFTER = "6h"
CRAWLER_CONDITIONAL_REQUESTS = True
DOWNLOADER_MIDDLEWARES = {
    # Where the crawl may go (crawler.reach): first, so a refused host is never contacted, not even
    # for its robots.txt.
    "middlewares.ReachMiddleware": 50,
    "middlewares.IncrementalMiddleware": 540,
    # Scrapy's redirects, refusing those to other sites, to other schemes, and loops.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "middlewares.GuardedRedirectMiddleware": 600,
    # Scrapy's retries, each after a pause (Retry-After, or exponential backoff).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "middlewares.BackoffRetryMiddleware": 550,
    # Scrapy's meta-refresh redirects, minus decoding every page to find none.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "middlewares.QuickMetaRefreshMiddleware": 580,
    # Every response as received (before decompression, retries and redirects) to WARC files, when
    # ARCHIVE_WARC_DIR is set.
    "middlewares.WarcMiddleware": 950,
}

# Hosts that resolve to private, loopback, link-local, multicast or reserved addresses are refused
# (fetch_failures reason private_address), except the host:port of a URL the user gave (a start
# URL, seed or sources entry). True allows every address (a crawl of an intranet).
CRAWLER_ALLOW_PRIVATE_ADDRESSES = False

# How far the spider follows in-site links from a start page (0 = only the start pages).
CRAWLER_MAX_DEPTH = 3
# Stop discovering new article pages after this many (0 = no limit).
CRAWLER_MAX_PAGES = 0

# Extracted text shorter than this many words is not an article body ("empty_body").
CRAWLER_MIN_WORDS = 20

# Extraction runs in a pool of worker processes (crawler.pool), off the reactor thread.
# Number of worker processes (0 = one per CPU).
CRAWLER_EXTRACT_WORKERS = 0
# Seconds a page may take to extract; then it is abandoned, its worker killed and replaced, and
# the page recorded as a failure (fetch_failures, reason extract_timeout).
CRAWLER_EXTRACT_TIMEOUT = 5.0
# Bytes of address space each extraction worker may use (RLIMIT_AS; 0 = no limit). A page that needs
# more (a million elements...) fails with reason extract_memory and its worker is replaced, before
# it can grow the crawl's memory (a million-<p> page grew a worker to 3.3 GB without it). A worker
# starts at about 560 MiB of address space; ordinary pages of up to 5 MB stay under 650 MiB. 896 MiB
# keeps the crawl and two workers under 1.5 GiB of summed RSS on the hostile site (bench/hostile.py).
CRAWLER_EXTRACT_MAX_MEMORY = 896 * 1024 * 1024
# A worker is replaced by a fresh process after this many pages (memory creep); 0 = never.
CRAWLER_WORKER_MAX_PAGES = 500
# Pages handed to the pool at once (0 = twice the workers). Items beyond it wait, holding their
# responses in Scrapy's scraper slot, so the engine stops downloading: the crawl cannot run ahead
# of extraction (see also SCRAPER_SLOT_MAX_ACTIVE_SIZE).
CRAWLER_EXTRACT_QUEUE = 0

# Run the crawl (its threads, the extraction workers) under Linux's SCHED_BATCH policy, so that the
# reactor's frequent wake-ups do not preempt workers in mid-page (a few percent more articles/s).
CRAWLER_BATCH_SCHEDULING = True

# Archive writes are batched: one transaction per this many records, or after this many seconds.
ARCHIVE_BATCH_SIZE = 100
ARCHIVE_BATCH_SECONDS = 0.2
# Seconds in all a write waits for a database locked by another writer (each try waits the busy
# timeout, 30 s on SQLite); past it the crawl stops with one line, and the next run continues.
ARCHIVE_LOCK_WAIT = 300

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

# Learn each site's boilerplate lines (lines repeated across its pages) in the archive and
# remove them from later pages of the site (see `crawler boilerplate SITE`).
CRAWLER_LEARN_BOILERPLATE = True

# `crawler health`: a site is flagged when a share of its pages (rejected as not articles, empty
# bodies, articles with a title / date / author / lede) moves by more than this between its history
# and its recent crawls, or its median body length changes by more than this fraction; both windows
# need at least CRAWLER_HEALTH_MIN_PAGES pages.
CRAWLER_HEALTH_THRESHOLD = 0.3
CRAWLER_HEALTH_MIN_PAGES = 5
# ... and when the learned-boilerplate lines removed per article (over the articles extracted with
# lines learned for the site) change by more than this fraction of the larger of the two means: the
# learned lines stopped matching (a redesign changed the site's chrome) or suddenly match more.
CRAWLER_HEALTH_BOILERPLATE_THRESHOLD = 0.5

# A crawl frontier shared by many crawler processes (crawler.redis_frontier, needs the `redis`
# extra): with REDIS_URL set here, in $REDIS_URL or by `crawler crawl --redis URL`, the scheduler
# and seen-set are scrapy-redis's on that Redis, and the queue persists across runs. Seen
# fingerprints expire: start pages, sitemaps and feeds after CRAWLER_REDIS_FRONT_TTL (so the next
# scheduled run fetches them again), the pages found from them after CRAWLER_REDIS_SEEN_TTL (then
# the incremental middleware decides from the archive). A crawler closes once the queue is empty
# and no crawler of the fleet has been busy for CRAWLER_REDIS_IDLE_CLOSE seconds.
ADDONS = {"crawler.redis_frontier.SharedFrontier": 0}
REDIS_URL = ""
CRAWLER_REDIS_PREFIX = "news-archiver"
CRAWLER_REDIS_FRONT_TTL = "5m"
CRAWLER_REDIS_SEEN_TTL = "1h"
CRAWLER_REDIS_IDLE_CLOSE = 5.0
CRAWLER_REDIS_START_BATCH = 16
