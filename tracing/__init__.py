"""Knowledge tracing: estimate what a learner knows from the answers they give."""
