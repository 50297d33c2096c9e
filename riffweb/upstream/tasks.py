def enqueue_transform(transform_id: int) -> None:
    raise NotImplementedError("the pipeline is being built")
