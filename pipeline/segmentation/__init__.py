"""From churn scores to marketing segments: risk x value cells, lift, behavioural personas."""
