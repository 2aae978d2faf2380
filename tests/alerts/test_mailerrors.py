from catalog.alerts.mailerrors import send_error_in_words


def test_errors_as_the_outbox_records_them_in_plain_words():
    assert send_error_in_words("ConnectionRefusedError: [Errno 111] Connection refused").startswith(
        "Canon's mail server could not be reached")
    assert send_error_in_words("SMTPRecipientsRefused: {'x@example.com': (550, b'5.1.1 <x@example.com>: user unknown')}") == (
        "The mail server refused your email address: the mailbox does not exist.")
    assert send_error_in_words("SMTPRecipientsRefused: {'x@example.com': (452, b'4.2.2 over quota')}") == (
        "The mail server refused your email address: the mailbox is full for now.")
    assert "log in" in send_error_in_words("SMTPAuthenticationError: (535, b'5.7.8 bad credentials')")
    assert "name does not resolve" in send_error_in_words("gaierror: [Errno -2] Name or service not known")
    assert "in time" in send_error_in_words("TimeoutError: timed out")
    assert "certificate" in send_error_in_words("SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED]")


def test_unknown_or_empty_errors_still_get_a_sentence():
    assert send_error_in_words("") == "The email could not be sent."
    assert send_error_in_words("ValueError: something odd") == "The email could not be sent."
