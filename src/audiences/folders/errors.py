from audiences.core.errors import DomainError, register_constraint


class FolderNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Folder not found"


class FolderNotEmpty(DomainError):
    status = 417
    error_type = "INVALID_STATE"
    message = "Folder is not empty"

    def __init__(self, audiences: int = 1, folders: int = 0) -> None:
        super().__init__(
            f"Folder is not empty: it holds {audiences} audience(s) and {folders} folder(s)",
            audiences=audiences,
            folders=folders,
        )


class FolderNameTaken(DomainError):
    status = 417
    error_type = "NAME_ALREADY_IN_USE"
    message = "Folder name must be unique within its parent folder"


class FolderTooDeep(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Folders nest one level: the parent must be a top-level folder"


register_constraint("uq_folders_account_id_parent_lower_name", FolderNameTaken)
