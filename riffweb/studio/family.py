"""A song's family: where it came from and everything made from it, as nested nodes.

A node is {"item": song or upload, "is_upload": bool, "requests": [{"transform", "songs": [node, …]}]}.
Only songs the user may see are drawn.
"""

from riffweb.studio import access
from riffweb.studio.models import Transform, Upload

FAMILY_LIMIT = 300  # nodes drawn in a family tree


def family_tree(user, song) -> dict:
    """The whole family of a song, from its oldest ancestor down.

    One query per ancestor and one per generation below the root, so the page's cost follows
    the family's depth, never the library's size.
    """
    visible = access.songs_for(user).select_related("transform")
    root, seen = song, {song.pk}
    while root.transform.source_song_id and root.transform.source_song_id not in seen:
        parent = visible.filter(pk=root.transform.source_song_id).first()
        if parent is None:
            break
        seen.add(parent.pk)
        root = parent
    if root.transform.source_upload_id:
        upload = Upload.objects.filter(
            pk=root.transform.source_upload_id,
            deleted_at__isnull=True,
            project__in=access.projects_for(user).values("pk"),
        ).first()
        if upload is not None:
            return family_node(user, upload)
    return family_node(user, root)


def family_node(user, item) -> dict:
    """A song or upload with everything made from it.

    Loads a generation per query; the walk stops after FAMILY_LIMIT nodes.
    """
    is_upload = isinstance(item, Upload)
    top = {"item": item, "is_upload": is_upload, "requests": []}
    visible = access.songs_for(user).select_related("transform")
    visible = visible.order_by("transform__created_at", "transform_id", "variant")
    # The requests made from each generation are looked up first, by their own index: given only
    # the join, SQLite's planner walks every visible song of the reader's projects instead.
    made_from = Transform.objects.values_list("pk", flat=True).filter
    children = visible.filter(transform_id__in=list(made_from(source_upload=item))) if is_upload else None
    level, budget = {item.pk: top}, FAMILY_LIMIT
    while level and budget > 0:
        if children is None:
            children = visible.filter(transform_id__in=list(made_from(source_song__in=list(level))))
        requests, next_level = {}, {}
        for child in children[:budget]:
            request = requests.get(child.transform_id)
            if request is None:
                request = requests[child.transform_id] = {"transform": child.transform, "songs": []}
                parent_id = child.transform.source_upload_id if is_upload else child.transform.source_song_id
                level[parent_id]["requests"].append(request)
            node = next_level[child.pk] = {"item": child, "requests": []}
            request["songs"].append(node)
        budget -= len(next_level)
        level, children, is_upload = next_level, None, False
    return top
