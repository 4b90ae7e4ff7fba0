import base64

from utils.generate_credential import generate_credential


def test_credential_is_base64_of_id_colon_secret(app):
    with app.app_context():
        credential = generate_credential()
    assert credential == "dGVzdC1jdXN0b21lci1pZDp0ZXN0LWN1c3RvbWVyLXNlY3JldA=="
    assert base64.b64decode(credential) == b"test-customer-id:test-customer-secret"
