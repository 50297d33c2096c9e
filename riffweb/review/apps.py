from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "riffweb.review"
    verbose_name = "Review"

    def ready(self):
        # Imported here, as Django asks: the models are loaded only now.
        from riffweb.review import feeds
        from django.db.models.signals import post_save

        from riffweb.review.models import notify_songs_ended, record_membership
        from riffweb.studio import live
        from riffweb.studio.models import Membership, songs_ended

        # The song page's comment list and every page's inbox count ride the page's one status poll.
        live.register("comments", feeds.comment_versions, feeds.render_comment_lists)
        live.register("inbox", feeds.inbox_versions, feeds.render_inbox_link)
        songs_ended.connect(notify_songs_ended, dispatch_uid="review.songs_ended")
        post_save.connect(record_membership, sender=Membership, dispatch_uid="review.member_joined")
