from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "riffweb.review"
    verbose_name = "Review"

    def ready(self):
        # The song page's comment list rides the page's one status poll as a live feed.
        from riffweb.review import feeds
        from riffweb.studio import live

        live.register("comments", feeds.comment_versions, feeds.render_comment_lists)
