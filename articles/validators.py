from django.core.exceptions import ValidationError

from .images import ImageRejected, clean_image


def validate_uploaded_image(upload):
    """Form-level check: the editor hears why an upload is refused before anything is saved."""
    upload.seek(0)
    try:
        clean_image(upload.read())
    except ImageRejected as error:
        raise ValidationError(str(error)) from error
    finally:
        upload.seek(0)
