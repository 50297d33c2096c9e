"""A song's family: where it came from and everything made from it, as nested nodes.

A node is {"item": song or upload, "is_upload": bool, "requests": [{"transform", "songs": [node, …]}]}.
Only songs the user may see are drawn.
"""

from django.db.models import Exists, OuterRef, Q

from riffweb.studio import access
from riffweb.studio.models import Song, Transform, Upload

FAMILY_LIMIT = 300  # nodes drawn in a family tree
# A song's request with what it started from, for visible_source (select_related).
WITH_SOURCE = ("transform__source_song__transform", "transform__source_upload")


def visible_source(user, song):
    """The song or upload `song`'s request started from, or None when the user may not see it:
    trashed, or left in a project the user is not in (a moved song's source stays behind).

    `song`, one the user sees, comes loaded WITH_SOURCE; only a source in another project than
    the song's costs a query, the user's rights there.
    """
    source = song.transform.source_song or song.transform.source_upload
    if source is None or source.deleted_at is not None:
        return None
    if source.project_id != song.project_id and not access.can(user, source.project_id, "view"):
        return None
    return source


def family_tree(user, song, source) -> dict:
    """The whole family of a song, from its oldest ancestor down. `source`: visible_source(user,
    song), which the song's page has already.

    One query per ancestor above that source, and one per generation below the root that has
    children, so the page's cost follows the family's depth, never its breadth or the library's size.
    """
    root, seen = song, {song.pk}
    while isinstance(source, Song) and source.pk not in seen:
        seen.add(source.pk)
        root, source = source, None
        if root.transform.source_song_id or root.transform.source_upload_id:
            # select_related reached one step up: the ancestor is loaded again with its own source.
            root = Song.objects.select_related(*WITH_SOURCE).get(pk=root.pk)
            source = visible_source(user, root)
    return family_node(user, source if isinstance(source, Upload) else root)


def family_node(user, item) -> dict:
    """A song or upload with everything made from it.

    Loads a generation per query, and none below songs that nothing was made from; the walk
    stops after FAMILY_LIMIT nodes.
    """
    is_upload = isinstance(item, Upload)
    top = {"item": item, "is_upload": is_upload, "requests": []}
    # Found by the requests' index (source_song, source_upload), each checked against the songs
    # the user may see: given those as a plain filter, SQLite's planner walks every visible song
    # of the reader's projects instead.
    songs = (Song.objects.filter(Exists(access.songs_for(user).filter(pk=OuterRef("pk"))))
             .select_related("transform")
             .annotate(has_requests=Exists(Transform.objects.filter(source_song=OuterRef("pk"))))
             .order_by("transform__created_at", "transform_id", "variant"))
    level, budget = {item.pk: top}, FAMILY_LIMIT
    while level and budget > 0:
        made_from = Q(transform__source_upload=item) if is_upload else Q(transform__source_song__in=list(level))
        requests, next_level = {}, {}
        for child in songs.filter(made_from)[:budget]:
            request = requests.get(child.transform_id)
            if request is None:
                request = requests[child.transform_id] = {"transform": child.transform, "songs": []}
                parent_id = child.transform.source_upload_id if is_upload else child.transform.source_song_id
                level[parent_id]["requests"].append(request)
            node = {"item": child, "requests": []}
            request["songs"].append(node)
            budget -= 1
            if child.has_requests:  # the next generation is looked for below these only
                next_level[child.pk] = node
        level, is_upload = next_level, False
    return top
