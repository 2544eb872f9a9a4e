print("protogen")
