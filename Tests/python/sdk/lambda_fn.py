"""The seed's Lambda function: it receives the step's Arguments as the event and
returns the declared outputs (output1: String, output2: Integer)."""


def lambda_handler(event, context):
    print(f"received {event}")
    return {"output1": f"{event['arg1']}-{event['arg2']}", "output2": len(event)}
