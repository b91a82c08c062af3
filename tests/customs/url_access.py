from tests.url_matrix import MEMBER, Rule


def _document(p):
    from customs.models import CustomsDocument
    from tests.customs.factories import make_declaration

    declaration = make_declaration(p["shop"], reference="URL-MATRIX-1")
    from customs.services import process_paperwork_job

    job = declaration.jobs.get()
    process_paperwork_job(job_id=job.pk)
    document = CustomsDocument.objects.filter(declaration=declaration).first()
    return {"pk": document.pk}


RULES = {
    "customs:document-download": Rule(
        MEMBER, kwargs=_document, owner="seller", also=("seller_staff",)
    ),
}
