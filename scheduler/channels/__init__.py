"""How notifications leave the service: SMS (Twilio), e-mail (SMTP + ICS), and the console."""
